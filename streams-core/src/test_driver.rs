//! `TopologyTestDriver`: runs a topology's tasks in memory, with no broker.
//!
//! The driver creates the same `StreamTask`s the Kafka runtime creates, one per sub-topology
//! and partition, and only replaces the consumer (records piped in are enqueued into the task
//! that owns their partition) and the producer (records written by sinks are captured in
//! memory; those for repartition or source topics are routed back into the owning task).
//!
//! # Which record is processed next
//! Records piped together (a list, or records enqueued on several topics before
//! [`TopologyTestDriver::process_queued`]) are processed as the runtime would: within a task,
//! the waiting record with the lowest timestamp across the task's partitions goes first (ties:
//! the source declared first); across tasks, the task with the lowest id that has records
//! waiting goes first. Kafka's own driver processes in pipe order instead.
//!
//! With `max.task.idle.ms` set, a task with several input partitions, some of them empty,
//! waits that long on the mock wall clock ([`TopologyTestDriver::advance_wall_clock_time`])
//! before it processes the records it has, as Kafka's driver does; with the default 0 it never
//! waits.
//!
//! # Partitions
//! Every topic has one partition unless set with [`TopologyTestDriverBuilder::partitions`].
//! Keyed records are partitioned by murmur2 of the key bytes (Kafka's default partitioner),
//! records without a key go to partition 0. Repartition topics get the partition count Kafka
//! Streams would give them.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::collector::{OutRecord, RecordCollector};
use crate::config::StreamsConfig;
use crate::error::{RecordLocation, RecordPart, Result, StreamsError};
use crate::processor::internals::plan::{TopicName, TopologyPlan};
use crate::processor::internals::task::{StreamTask, TaskConfig};
use crate::processor::internals::task_manager::{
    ChangelogEntry, ChangelogEvent, ChangelogReader, InputOffset, InputPartitions, ManagerConfig,
    OutputSink, RestoreListenerSlot, StartPosition, TaskManager,
};
use crate::processor::partitioner::murmur2_partition;
use crate::processor::task_metrics::TaskMetrics;
use crate::processor::topology::Topology;
use crate::record::{Headers, RawRecord, Record};
use crate::serdes::{deserialize_opt, serialize_into, Serde};
use crate::state::cache::CacheBudget;
use crate::state::internals::backends::Backends;
use crate::state::store::{SharedCollector, StateStore};
use crate::task_id::TaskId;

/// A record captured from a sink.
#[derive(Debug, Clone)]
struct Captured {
    topic: String,
    partition: i32,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    timestamp: i64,
    headers: Headers,
}

struct PartitionTable {
    counts: HashMap<String, i32>,
    default: i32,
}

impl PartitionTable {
    fn count(&self, topic: &str) -> i32 {
        self.counts.get(topic).copied().unwrap_or(self.default)
    }
}

/// Every record written to each changelog topic-partition, in offset order.
type ChangelogLogs = Rc<RefCell<HashMap<(String, i32), Vec<Captured>>>>;

struct DriverCollector {
    captured: Rc<RefCell<Vec<Captured>>>,
    partitions: Rc<PartitionTable>,
    changelog_topics: Rc<HashSet<String>>,
    /// Changelog records are kept here as they are sent (acknowledged at once).
    logs: ChangelogLogs,
}

impl RecordCollector for DriverCollector {
    fn send(&mut self, r: OutRecord<'_>) -> Result<()> {
        let record = Captured {
            topic: r.topic.to_string(),
            partition: r.partition.unwrap_or(0),
            key: r.key.map(<[u8]>::to_vec),
            value: r.value.map(<[u8]>::to_vec),
            timestamp: r.timestamp,
            headers: r.headers.clone(),
        };
        if self.changelog_topics.contains(&record.topic) {
            self.logs
                .borrow_mut()
                .entry((record.topic.clone(), record.partition))
                .or_default()
                .push(record.clone());
        }
        self.captured.borrow_mut().push(record);
        Ok(())
    }
    fn partition_count(&mut self, topic: &str) -> Result<i32> {
        Ok(self.partitions.count(topic))
    }
}

/// The partition of a record piped into a topic of `n` partitions: the one given, else murmur2
/// of the key, else 0.
fn pick_partition(topic: &str, n: i32, partition: Option<i32>, key: Option<&[u8]>) -> Result<i32> {
    match (partition, key) {
        (Some(p), _) if (0..n).contains(&p) => Ok(p),
        (Some(p), _) => Err(StreamsError::Driver(format!(
            "topic `{topic}` has {n} partitions; partition {p} does not exist"
        ))),
        (None, Some(k)) => Ok(murmur2_partition(k, n)),
        (None, None) => Ok(0),
    }
}

/// The driver's changelogs, read for restoration.
struct MemoryChangelogReader {
    logs: ChangelogLogs,
    /// (topic, partition) → next offset to read.
    assigned: BTreeMap<(String, i32), usize>,
}

impl ChangelogReader for MemoryChangelogReader {
    fn assign(&mut self, topic: &str, partition: i32, offset: i64) -> Result<StartPosition> {
        let end = self
            .logs
            .borrow()
            .get(&(topic.to_string(), partition))
            .map_or(0, Vec::len);
        match usize::try_from(offset) {
            Ok(from) if from <= end => {
                self.assigned.insert((topic.to_string(), partition), from);
                Ok(StartPosition::Valid)
            }
            _ => Ok(StartPosition::OutOfRange {
                first: 0,
                end: end as i64,
            }),
        }
    }

    fn unassign(&mut self, topic: &str, partition: i32) -> Result<()> {
        self.assigned.remove(&(topic.to_string(), partition));
        Ok(())
    }

    fn read(&mut self, max_per_topic: usize, _wait: Duration) -> Result<Vec<ChangelogEvent>> {
        let logs = self.logs.borrow();
        let mut events = Vec::new();
        for ((topic, partition), next) in self.assigned.iter_mut() {
            let log = logs
                .get(&(topic.clone(), *partition))
                .map_or(&[][..], Vec::as_slice);
            let until = log.len().min(next.saturating_add(max_per_topic));
            if *next < until {
                let records = log[*next..until]
                    .iter()
                    .enumerate()
                    .map(|(i, r)| ChangelogEntry {
                        key: r.key.clone(),
                        value: r.value.clone(),
                        timestamp: r.timestamp,
                        offset: (*next + i) as i64,
                    })
                    .collect();
                events.push(ChangelogEvent::Records {
                    topic: topic.clone(),
                    partition: *partition,
                    records,
                });
                *next = until;
            }
            if *next >= log.len() {
                events.push(ChangelogEvent::End {
                    topic: topic.clone(),
                    partition: *partition,
                });
            }
        }
        Ok(events)
    }
}

/// The driver's input is never paused: it has no fetching to stop.
struct NoPause;

impl InputPartitions for NoPause {
    fn pause(&mut self, _: &[(String, i32)]) -> Result<()> {
        Ok(())
    }
    fn resume(&mut self, _: &[(String, i32)]) -> Result<()> {
        Ok(())
    }
}

/// Captured records are durable at once; a changelog's end is its captured length.
struct DriverSink<'a>(&'a ChangelogLogs);

impl OutputSink for DriverSink<'_> {
    fn commit(&mut self, _offsets: &[InputOffset]) -> Result<bool> {
        Ok(true)
    }
    fn acked_end(&self, topic: &str, partition: i32) -> Option<i64> {
        self.0
            .borrow()
            .get(&(topic.to_string(), partition))
            .map(|log| log.len() as i64)
    }
}

struct Inner {
    application_id: String,
    plan: Arc<TopologyPlan>,
    task_config: TaskConfig,
    /// The tasks, run by the runtime's own lifecycle.
    manager: TaskManager,
    reader: MemoryChangelogReader,
    /// topic → per partition: the next offset.
    routes: HashMap<String, Vec<i64>>,
    /// Pattern sources: their regular expression and the name of their input in `routes`.
    patterns: Vec<(regex::Regex, String)>,
    internal_topics: Vec<String>,
    partitions: Rc<PartitionTable>,
    captured: Rc<RefCell<Vec<Captured>>>,
    /// The driver's own temporary `state.dir`, removed when the driver is dropped.
    temp_state_dir: Option<PathBuf>,
    /// Every record written to each changelog topic-partition, in offset order.
    changelogs: ChangelogLogs,
    outputs: HashMap<String, VecDeque<Captured>>,
    /// Every topic a record was written to (sinks, repartition and changelog topics).
    produced: BTreeSet<String>,
    wall_clock: i64,
    /// `max.task.idle.ms`: how long (on the mock wall clock) a task with several inputs, some
    /// empty, waits before it processes what it has. 0: it never waits.
    max_task_idle: i64,
    /// Per waiting task: the mock wall-clock time until which it waits.
    idle_deadlines: HashMap<TaskId, i64>,
    /// Set when a task could not be reopened: the driver refuses further work.
    failed: Option<String>,
    /// Global topic → (index of its global store in the plan, next offset per partition).
    globals: HashMap<String, (usize, Vec<i64>)>,
}

impl Inner {
    fn enqueue(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: &Headers,
    ) -> Result<()> {
        if let Some(why) = &self.failed {
            return Err(StreamsError::Driver(why.clone()));
        }
        if self.globals.contains_key(topic) {
            return self.update_global(topic, partition, key, value, timestamp);
        }
        // A topic matched by a pattern source is piped into the pattern's one input, as in
        // Kafka's driver.
        let topic = match self.routes.contains_key(topic) {
            true => topic,
            false => self
                .patterns
                .iter()
                .find(|(re, _)| re.is_match(topic))
                .map_or(topic, |(_, pattern)| pattern.as_str()),
        };
        let Some(route) = self.routes.get_mut(topic) else {
            let mut known: Vec<&str> = self
                .routes
                .keys()
                .map(String::as_str)
                .filter(|t| !self.internal_topics.iter().any(|i| i == t))
                .collect();
            known.sort_unstable();
            return Err(StreamsError::Driver(format!(
                "topic `{topic}` is not read by the topology; its source topics are: {}",
                known.join(", ")
            )));
        };
        let partition = pick_partition(topic, route.len() as i32, partition, key)?;
        let offset = route[partition as usize];
        route[partition as usize] += 1;
        let raw = RawRecord {
            key,
            value,
            timestamp,
            offset,
            headers,
        };
        if self.manager.enqueue(topic, partition, raw, &mut NoPause)? {
            Ok(())
        } else {
            Err(StreamsError::Internal(format!(
                "no task reads `{topic}` partition {partition}"
            )))
        }
    }

    /// Writes a record of a global table's topic to its store at once (as Kafka's driver
    /// does): every task sees it from the next record on.
    fn update_global(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<()> {
        let Some((store, offsets)) = self.globals.get_mut(topic) else {
            return Ok(());
        };
        let partition = pick_partition(topic, offsets.len() as i32, partition, key)?;
        let offset = offsets[partition as usize];
        offsets[partition as usize] += 1;
        let store = *store;
        self.plan.global_stores[store].apply(
            self.task_config.handler,
            partition,
            &[crate::state::global::GlobalRecord {
                key,
                value,
                timestamp,
                offset,
            }],
        )?;
        Ok(())
    }

    /// Moves captured sink output to the output queues, feeding records for topics the
    /// topology reads (repartition topics, or a source that is also a sink) back into tasks and
    /// keeping changelog records for restoration.
    fn route_captured(&mut self) -> Result<()> {
        let captured = std::mem::take(&mut *self.captured.borrow_mut());
        for r in captured {
            if !self.produced.contains(&r.topic) {
                self.produced.insert(r.topic.clone());
            }
            if self.routes.contains_key(&r.topic) || self.globals.contains_key(&r.topic) {
                self.enqueue(
                    &r.topic,
                    Some(r.partition),
                    r.key.as_deref(),
                    r.value.as_deref(),
                    r.timestamp,
                    &r.headers,
                )?;
            }
            self.outputs
                .entry(r.topic.clone())
                .or_default()
                .push_back(r);
        }
        Ok(())
    }

    /// Processes until nothing is waiting, committing every task after each round (as
    /// Kafka's driver commits after each piped record), which emits cached results.
    fn process_queued(&mut self) -> Result<()> {
        if let Some(why) = &self.failed {
            return Err(StreamsError::Driver(why.clone()));
        }
        loop {
            let mut processed = false;
            loop {
                self.route_captured()?;
                if !self.process_next()? {
                    break;
                }
                processed = true;
            }
            self.commit()?;
            self.route_captured()?;
            // Records left only in tasks that wait for their other inputs (`max.task.idle.ms`).
            if self.manager.queued() == 0 || !processed {
                return Ok(());
            }
        }
    }

    /// Processes one record of the first task (by id) that has records and does not wait: a
    /// task with several inputs, some empty, waits `max.task.idle.ms` of mock wall-clock time
    /// from when it found one empty, as Kafka's driver.
    fn process_next(&mut self) -> Result<bool> {
        if self.max_task_idle <= 0 {
            return self.manager.process_next();
        }
        for id in self.manager.task_ids() {
            let Some(task) = self.manager.task_mut(id) else {
                continue;
            };
            if task.queued() == 0 {
                self.idle_deadlines.remove(&id);
                continue;
            }
            let inputs = task.queues().len();
            if inputs > 1 && (0..inputs).any(|qi| task.queued_in(qi) == 0) {
                let deadline = *self
                    .idle_deadlines
                    .entry(id)
                    .or_insert(self.wall_clock.saturating_add(self.max_task_idle));
                if self.wall_clock < deadline {
                    continue;
                }
            } else {
                self.idle_deadlines.remove(&id);
            }
            return task.process_one();
        }
        Ok(false)
    }

    /// Commits every task and writes its checkpoint (the changelog end offsets).
    fn commit(&mut self) -> Result<()> {
        self.manager
            .commit(&mut DriverSink(&self.changelogs), &mut self.reader)?;
        self.route_captured()
    }

    /// Creates a task, restores its logged stores from the captured changelogs (from the
    /// checkpoint for persistent stores, else from the beginning) and initializes it.
    fn create_task(&mut self, sub: usize, partition: i32) -> Result<TaskId> {
        let id = self.manager.create_task(
            sub,
            partition,
            self.wall_clock,
            &mut self.reader,
            &mut NoPause,
        )?;
        // The captured changelogs are all there: one step per batch reads them to the end.
        while self
            .manager
            .restore(&mut self.reader, &mut NoPause, Duration::ZERO)?
        {}
        Ok(id)
    }
}

static DRIVER_DIRS: AtomicUsize = AtomicUsize::new(0);

/// Runs a topology in memory for tests. See the [module docs](self) for the processing rules.
///
/// ```
/// use streams_core::*;
///
/// let builder = StreamsBuilder::new();
/// builder.stream("words", Consumed::with(StringSerde, StringSerde))
///     .flat_map_values(|line: String| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
///     .to("tokens", Produced::new());
/// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("tokenizer"))?;
///
/// let words = driver.input_topic("words", StringSerde, StringSerde);
/// let tokens = driver.output_topic("tokens", StringSerde, StringSerde);
/// words.pipe_input("k".to_string(), "hello stream world".to_string())?;
/// assert_eq!(tokens.read_values_to_list()?, ["hello", "stream", "world"]);
/// assert!(tokens.is_empty());
/// # Ok::<(), StreamsError>(())
/// ```
pub struct TopologyTestDriver {
    inner: RefCell<Inner>,
}

/// Options of a [`TopologyTestDriver`].
pub struct TopologyTestDriverBuilder {
    topology: Topology,
    config: StreamsConfig,
    partitions: HashMap<String, i32>,
    default_partitions: i32,
    wall_clock: i64,
}

impl TopologyTestDriverBuilder {
    /// Gives `topic` this many partitions (default 1).
    pub fn partitions(mut self, topic: &str, partitions: i32) -> Self {
        self.partitions.insert(topic.to_string(), partitions);
        self
    }
    /// Partition count of topics not set with [`Self::partitions`] (default 1).
    pub fn default_partitions(mut self, partitions: i32) -> Self {
        self.default_partitions = partitions;
        self
    }
    /// Initial mock wall-clock time, epoch ms (default 0).
    pub fn wall_clock_start(mut self, epoch_ms: i64) -> Self {
        self.wall_clock = epoch_ms;
        self
    }

    /// Creates the tasks and initializes their processors.
    pub fn build(self) -> Result<TopologyTestDriver> {
        self.config.validate()?;
        if let Some((t, n)) = self
            .partitions
            .iter()
            .map(|(t, n)| (t.as_str(), *n))
            .chain([("(default)", self.default_partitions)])
            .find(|(_, n)| *n < 1)
        {
            return Err(StreamsError::Driver(format!(
                "topic `{t}` must have at least one partition, got {n}"
            )));
        }
        let app = self.config.application_id().to_string();
        let task_config = TaskConfig::from_config(&self.config)?;
        let plan = Arc::new(self.topology.plan()?);
        let user = |t: &str| {
            Some(
                self.partitions
                    .get(t)
                    .copied()
                    .unwrap_or(self.default_partitions),
            )
        };
        let counts = plan.partition_counts(&app, &user)?;
        let task_counts = plan.task_counts(&app, &counts)?;
        let mut table = self.partitions.clone();
        for (topic, n) in &counts {
            table.insert(topic.resolve(&app), *n);
        }
        let partitions = Rc::new(PartitionTable {
            counts: table,
            default: self.default_partitions,
        });
        let captured = Rc::new(RefCell::new(Vec::new()));
        let changelog_topics: Rc<HashSet<String>> = Rc::new(
            plan.subtopologies
                .iter()
                .flat_map(|sub| sub.stores.iter())
                .filter(|b| b.logged())
                .map(|b| crate::state::store::changelog_topic(&app, b.name()))
                .collect(),
        );
        let changelogs = ChangelogLogs::default();
        let collector: SharedCollector = Rc::new(RefCell::new(Box::new(DriverCollector {
            captured: captured.clone(),
            partitions: partitions.clone(),
            changelog_topics,
            logs: changelogs.clone(),
        })));
        let (root, temp_state_dir) = match self.config.state_dir() {
            Some(dir) => (dir, None),
            None => {
                let dir = std::env::temp_dir().join(format!(
                    "streams-test-driver-{}-{}",
                    std::process::id(),
                    DRIVER_DIRS.fetch_add(1, Ordering::Relaxed)
                ));
                (dir.clone(), Some(dir))
            }
        };
        let internal_topics = plan
            .internal_topics
            .iter()
            .map(|t| TopicName::Internal(t.name.clone()).resolve(&app))
            .collect();
        let mut patterns = Vec::new();
        for source in plan.subtopologies.iter().flat_map(|sub| &sub.sources) {
            if let TopicName::Pattern(p) = &source.topic {
                patterns.push((
                    crate::processor::internals::plan::topic_regex(p)?,
                    p.clone(),
                ));
            }
        }
        let state_dir = root.join(&app);
        let manager = TaskManager::new(
            ManagerConfig {
                application_id: app.clone(),
                plan: plan.clone(),
                state_dir: state_dir.clone(),
                task_config: task_config.clone(),
                exactly_once: false,
                buffered_per_partition: usize::MAX,
                pause_slack: 0,
                max_task_idle: Duration::ZERO,
                restore_listener: RestoreListenerSlot::default(),
            },
            collector,
            Rc::new(CacheBudget::new(self.config.cache_max_bytes()?)),
            Backends::new(self.config.rocksdb_total_memory_bytes()?),
        );
        let mut inner = Inner {
            application_id: app,
            plan: plan.clone(),
            task_config,
            manager,
            reader: MemoryChangelogReader {
                logs: changelogs.clone(),
                assigned: BTreeMap::new(),
            },
            routes: HashMap::new(),
            patterns,
            internal_topics,
            partitions,
            captured,
            temp_state_dir,
            changelogs,
            outputs: HashMap::new(),
            produced: BTreeSet::new(),
            wall_clock: self.wall_clock,
            max_task_idle: i64::try_from(self.config.max_task_idle()?.as_millis())
                .unwrap_or(i64::MAX),
            idle_deadlines: HashMap::new(),
            failed: None,
            globals: HashMap::new(),
        };
        // Global stores start empty: the driver has no topic data from earlier runs.
        for (i, g) in plan.global_stores.iter().enumerate() {
            let dir = state_dir.join("global").join(&g.name);
            let backend = crate::state::global::open_backend(
                g.store_type,
                &g.name,
                &dir,
                self.config.rocksdb_total_memory_bytes()?,
            )?;
            g.cell.open(backend);
            g.cell.wipe()?;
            let n = inner.partitions.count(&g.topic);
            inner
                .globals
                .insert(g.topic.clone(), (i, vec![0; n as usize]));
        }
        for (sub, &n) in task_counts.iter().enumerate() {
            for p in 0..n {
                let id = inner.create_task(sub, p)?;
                let topics: Vec<String> = inner
                    .manager
                    .task(id)
                    .map(|t| t.queues().iter().map(|q| q.topic.to_string()).collect())
                    .unwrap_or_default();
                for topic in topics {
                    let route = inner.routes.entry(topic.clone()).or_default();
                    if route.len() != p as usize {
                        return Err(StreamsError::Internal(format!(
                            "tasks of topic {topic} created out of order"
                        )));
                    }
                    route.push(0);
                }
            }
        }
        let driver = TopologyTestDriver {
            inner: RefCell::new(inner),
        };
        // Processors may forward from `init`.
        driver.inner.borrow_mut().process_queued()?;
        Ok(driver)
    }
}

impl TopologyTestDriver {
    /// A driver with one partition per topic and the mock clock at 0.
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<Self> {
        Self::builder(topology, config).build()
    }

    /// A driver with options (partition counts, start time).
    pub fn builder(topology: Topology, config: StreamsConfig) -> TopologyTestDriverBuilder {
        TopologyTestDriverBuilder {
            topology,
            config,
            partitions: HashMap::new(),
            default_partitions: 1,
            wall_clock: 0,
        }
    }

    /// A handle to pipe records into `topic`, with auto-advancing timestamps starting at 0.
    pub fn input_topic<K: 'static, V: 'static>(
        &self,
        topic: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> TestInputTopic<'_, K, V> {
        self.input_topic_with_time(topic, key_serde, value_serde, 0, Duration::ZERO)
    }

    /// A handle whose records get `start_ms`, then `start_ms + auto_advance`, and so on, unless
    /// a timestamp is given.
    pub fn input_topic_with_time<K: 'static, V: 'static>(
        &self,
        topic: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
        start_ms: i64,
        auto_advance: Duration,
    ) -> TestInputTopic<'_, K, V> {
        TestInputTopic {
            driver: self,
            topic: topic.to_string(),
            key_serde: Box::new(key_serde),
            value_serde: Box::new(value_serde),
            next_timestamp: Cell::new(start_ms),
            advance: i64::try_from(auto_advance.as_millis()).unwrap_or(i64::MAX),
            key_buf: RefCell::new(Vec::new()),
            value_buf: RefCell::new(Vec::new()),
        }
    }

    /// A handle to read what the topology wrote to `topic`.
    pub fn output_topic<K: 'static, V: 'static>(
        &self,
        topic: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> TestOutputTopic<'_, K, V> {
        TestOutputTopic {
            driver: self,
            topic: topic.to_string(),
            key_serde: Box::new(key_serde),
            value_serde: Box::new(value_serde),
        }
    }

    /// Pipes one serialized record (what a producer would send) and processes it.
    pub fn pipe_raw(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.enqueue(topic, None, key, value, timestamp, &Headers::new())?;
        inner.process_queued()
    }

    /// Queues one serialized record without processing it (many records per commit, as the
    /// runtime's batches); see [`TopologyTestDriver::process_queued`].
    pub fn enqueue_raw(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<()> {
        self.inner
            .borrow_mut()
            .enqueue(topic, None, key, value, timestamp, &Headers::new())
    }

    /// Processes everything enqueued with the `enqueue_*` methods of the input topics (and what
    /// it leads to), by the runtime's order.
    pub fn process_queued(&self) -> Result<()> {
        self.inner.borrow_mut().process_queued()
    }

    /// Advances the mock wall clock, fires due wall-clock punctuators in every task, and
    /// processes what they produce.
    pub fn advance_wall_clock_time(&self, by: Duration) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.wall_clock = inner
            .wall_clock
            .saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        let now = inner.wall_clock;
        for id in inner.manager.task_ids() {
            if let Some(task) = inner.manager.task_mut(id) {
                task.advance_wall_clock(now)?;
            }
            inner.process_queued()?;
        }
        Ok(())
    }

    /// The mock wall-clock time, epoch ms.
    pub fn wall_clock_time(&self) -> i64 {
        self.inner.borrow().wall_clock
    }

    /// A state store of partition 0's task (with one partition per topic, the only one).
    pub fn get_state_store<S: StateStore + Clone>(&self, name: &str) -> Result<S> {
        self.get_state_store_for_partition(name, 0)
    }

    /// A state store of the task for `partition`.
    pub fn get_state_store_for_partition<S: StateStore + Clone>(
        &self,
        name: &str,
        partition: i32,
    ) -> Result<S> {
        let inner = self.inner.borrow();
        let store = inner
            .manager
            .tasks()
            .filter(|t| t.id().partition == partition)
            .find_map(|t| t.store(name))
            .or_else(|| {
                // Global stores are the same for every partition.
                inner
                    .manager
                    .tasks()
                    .find_map(|t| t.store(name))
                    .filter(|_| inner.plan.global_stores.iter().any(|g| g.name == name))
            })
            .ok_or_else(|| {
                StreamsError::Driver(format!(
                    "no task of partition {partition} has a store `{name}`"
                ))
            })?;
        store.as_any().downcast_ref::<S>().cloned().ok_or_else(|| {
            StreamsError::Driver(format!(
                "store `{name}` is not a `{}`",
                std::any::type_name::<S>()
            ))
        })
    }

    /// The ids of the driver's tasks.
    pub fn task_ids(&self) -> Vec<TaskId> {
        self.inner.borrow().manager.task_ids()
    }

    /// The counters of one task.
    pub fn task_metrics(&self, task: TaskId) -> Option<TaskMetrics> {
        let inner = self.inner.borrow();
        inner.manager.task(task).map(|t| t.metrics().clone())
    }

    /// The counters of all tasks added up.
    pub fn metrics(&self) -> TaskMetrics {
        let inner = self.inner.borrow();
        let mut sum = TaskMetrics::default();
        for t in inner.manager.tasks() {
            let m = t.metrics();
            sum.processed += m.processed;
            sum.dropped_records += m.dropped_records;
            sum.punctuations += m.punctuations;
            sum.restore_restarts += m.restore_restarts;
        }
        sum
    }

    /// The stream time of a task (-1 before its first record).
    pub fn stream_time(&self, task: TaskId) -> Option<i64> {
        let inner = self.inner.borrow();
        inner.manager.task(task).map(StreamTask::stream_time)
    }

    /// The real name of an internal topic, `<application.id>-<name>`.
    pub fn internal_topic_name(&self, name: &str) -> String {
        format!("{}-{name}", self.inner.borrow().application_id)
    }

    /// The names of all topics records were written to so far: sink topics, and the internal
    /// repartition and changelog topics (with their `<application.id>-` prefix). Kafka's
    /// `producedTopicNames()`.
    ///
    /// ```
    /// # use streams_core::*;
    /// let builder = StreamsBuilder::new();
    /// builder.stream("in", Consumed::with(StringSerde, StringSerde))
    ///     .group_by_key().count(Materialized::named("counts"));
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("app"))?;
    /// assert!(driver.produced_topic_names().is_empty());
    /// driver.input_topic("in", StringSerde, StringSerde).pipe_input("k".into(), "v".into())?;
    /// assert_eq!(driver.produced_topic_names(), ["app-counts-changelog".to_string()].into());
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn produced_topic_names(&self) -> BTreeSet<String> {
        self.inner.borrow().produced.clone()
    }

    /// Number of partitions the driver gives `topic`.
    pub fn partition_count(&self, topic: &str) -> i32 {
        self.inner.borrow().partitions.count(topic)
    }

    /// Commits every task now (caches emit, stores write their changelogs). The driver also
    /// commits after each pipe call.
    pub fn commit(&self) -> Result<()> {
        self.inner.borrow_mut().process_queued()
    }

    /// Closes a task and opens it again, as after a restart or a move to another instance:
    /// its logged stores are restored from the changelog the driver captured, from the
    /// checkpoint for persistent stores. With `wipe_local_state`, the task's state directory
    /// is deleted first, so everything is restored from the start of the changelog.
    pub fn restart_task(&self, task: TaskId, wipe_local_state: bool) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.process_queued()?;
        if inner.manager.task(task).is_none() {
            return Err(StreamsError::Driver(format!("no task {task}")));
        }
        let sub = inner
            .plan
            .subtopologies
            .iter()
            .position(|s| s.id == task.subtopology)
            .ok_or_else(|| StreamsError::Driver(format!("no sub-topology {}", task.subtopology)))?;
        let dir = inner
            .manager
            .task(task)
            .map(|t| t.task_dir().to_path_buf())
            .unwrap_or_default();
        // The task is dropped before it is opened again: RocksDB opens a directory once per
        // process.
        let inner = &mut *inner;
        inner
            .manager
            .close_task(task, &DriverSink(&inner.changelogs), &mut inner.reader)?;
        inner.route_captured()?;
        let reopened = (|| {
            if wipe_local_state && dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| {
                    StreamsError::Driver(format!("cannot delete {}: {e}", dir.display()))
                })?;
            }
            inner.create_task(sub, task.partition)
        })();
        match reopened {
            Ok(_) => Ok(()),
            Err(e) => {
                inner.failed = Some(format!("task {task} could not be reopened: {e}"));
                Err(e)
            }
        }
    }

    /// Closes every task (processors' `close`, stores flushed and closed).
    pub fn close(self) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.process_queued()?;
        let inner = &mut *inner;
        let mut first = inner.manager.close_all(&mut inner.reader).err();
        for g in &inner.plan.global_stores {
            if let Err(e) = g.cell.close() {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for TopologyTestDriver {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        inner.manager.drop_tasks();
        for g in &inner.plan.global_stores {
            let _ = g.cell.close();
        }
        if let Some(dir) = inner.temp_state_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Pipes typed records into one topic of a [`TopologyTestDriver`].
pub struct TestInputTopic<'d, K, V> {
    driver: &'d TopologyTestDriver,
    topic: String,
    key_serde: Box<dyn Serde<K>>,
    value_serde: Box<dyn Serde<V>>,
    next_timestamp: Cell<i64>,
    advance: i64,
    key_buf: RefCell<Vec<u8>>,
    value_buf: RefCell<Vec<u8>>,
}

impl<K: 'static, V: 'static> TestInputTopic<'_, K, V> {
    fn auto_timestamp(&self) -> i64 {
        let ts = self.next_timestamp.get();
        self.next_timestamp.set(ts.saturating_add(self.advance));
        ts
    }

    fn enqueue_inner(
        &self,
        key: Option<&K>,
        value: &V,
        timestamp: i64,
        headers: &Headers,
    ) -> Result<()> {
        let err = |part, source| StreamsError::Serialization {
            topic: self.topic.clone(),
            node: "TestInputTopic".into(),
            part,
            source,
        };
        let mut kb = self.key_buf.borrow_mut();
        let mut vb = self.value_buf.borrow_mut();
        let has_key = match key {
            Some(k) => {
                serialize_into(&*self.key_serde, k, &mut kb).map_err(|e| err(RecordPart::Key, e))?
            }
            None => false,
        };
        let has_value = serialize_into(&*self.value_serde, value, &mut vb)
            .map_err(|e| err(RecordPart::Value, e))?;
        self.driver.inner.borrow_mut().enqueue(
            &self.topic,
            None,
            has_key.then_some(kb.as_slice()),
            has_value.then_some(vb.as_slice()),
            timestamp,
            headers,
        )
    }

    /// Queues a record without processing it; see [`TopologyTestDriver::process_queued`].
    pub fn enqueue_key_value_at(&self, key: K, value: V, timestamp: i64) -> Result<()> {
        self.enqueue_inner(Some(&key), &value, timestamp, &Headers::new())
    }

    /// Pipes one record with the next auto timestamp and processes it.
    pub fn pipe_input(&self, key: K, value: V) -> Result<()> {
        let ts = self.auto_timestamp();
        self.pipe_input_at(key, value, ts)
    }

    /// Pipes one record with this timestamp and processes it.
    pub fn pipe_input_at(&self, key: K, value: V, timestamp: i64) -> Result<()> {
        self.enqueue_inner(Some(&key), &value, timestamp, &Headers::new())?;
        self.driver.process_queued()
    }

    /// Pipes one record without a key (a null key) and processes it.
    pub fn pipe_value(&self, value: V) -> Result<()> {
        let ts = self.auto_timestamp();
        self.enqueue_inner(None, &value, ts, &Headers::new())?;
        self.driver.process_queued()
    }

    /// Pipes a record with its timestamp and headers and processes it.
    pub fn pipe_record(&self, record: Record<K, V>) -> Result<()> {
        self.enqueue_inner(
            Some(&record.key),
            &record.value,
            record.timestamp,
            &record.headers,
        )?;
        self.driver.process_queued()
    }

    /// Queues all pairs (auto timestamps), then processes them by the runtime's order.
    pub fn pipe_key_values(&self, records: impl IntoIterator<Item = (K, V)>) -> Result<()> {
        for (k, v) in records {
            let ts = self.auto_timestamp();
            self.enqueue_inner(Some(&k), &v, ts, &Headers::new())?;
        }
        self.driver.process_queued()
    }

    /// Queues all values without keys (auto timestamps), then processes them.
    pub fn pipe_values(&self, values: impl IntoIterator<Item = V>) -> Result<()> {
        for v in values {
            let ts = self.auto_timestamp();
            self.enqueue_inner(None, &v, ts, &Headers::new())?;
        }
        self.driver.process_queued()
    }

    /// Queues all records (their own timestamps), then processes them by the runtime's order.
    pub fn pipe_records(&self, records: impl IntoIterator<Item = Record<K, V>>) -> Result<()> {
        for r in records {
            self.enqueue_inner(Some(&r.key), &r.value, r.timestamp, &r.headers)?;
        }
        self.driver.process_queued()
    }

    /// Moves the auto timestamp forward.
    pub fn advance_time(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.next_timestamp
            .set(self.next_timestamp.get().saturating_add(by));
    }
}

/// A record read from an output topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TestRecord<K, V> {
    /// Key.
    pub key: K,
    /// Value.
    pub value: V,
    /// Timestamp the sink wrote.
    pub timestamp: i64,
    /// Headers.
    pub headers: Headers,
    /// Partition the sink chose.
    pub partition: i32,
}

/// Reads typed records a topology wrote to one topic.
pub struct TestOutputTopic<'d, K, V> {
    driver: &'d TopologyTestDriver,
    topic: String,
    key_serde: Box<dyn Serde<K>>,
    value_serde: Box<dyn Serde<V>>,
}

impl<K: 'static, V: 'static> TestOutputTopic<'_, K, V> {
    /// Takes the next record.
    pub fn read_record(&self) -> Result<TestRecord<K, V>> {
        let r = self
            .driver
            .inner
            .borrow_mut()
            .outputs
            .get_mut(&self.topic)
            .and_then(VecDeque::pop_front)
            .ok_or_else(|| {
                StreamsError::Driver(format!("output topic `{}` is empty", self.topic))
            })?;
        let location = || RecordLocation {
            topic: r.topic.clone(),
            partition: r.partition,
            offset: -1,
        };
        let key = deserialize_opt(&*self.key_serde, r.key.as_deref()).map_err(|source| {
            StreamsError::Deserialization {
                location: location(),
                part: RecordPart::Key,
                source,
            }
        })?;
        let value = deserialize_opt(&*self.value_serde, r.value.as_deref()).map_err(|source| {
            StreamsError::Deserialization {
                location: location(),
                part: RecordPart::Value,
                source,
            }
        })?;
        Ok(TestRecord {
            key,
            value,
            timestamp: r.timestamp,
            headers: r.headers,
            partition: r.partition,
        })
    }

    /// Takes the next record's key and value.
    pub fn read_key_value(&self) -> Result<(K, V)> {
        self.read_record().map(|r| (r.key, r.value))
    }

    /// Takes the next record's value.
    pub fn read_value(&self) -> Result<V> {
        self.read_record().map(|r| r.value)
    }

    /// Takes every waiting record.
    pub fn read_records_to_list(&self) -> Result<Vec<TestRecord<K, V>>> {
        let mut out = Vec::with_capacity(self.queue_size());
        while !self.is_empty() {
            out.push(self.read_record()?);
        }
        Ok(out)
    }

    /// Takes every waiting key and value.
    pub fn read_key_values_to_list(&self) -> Result<Vec<(K, V)>> {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|r| (r.key, r.value))
            .collect())
    }

    /// Takes every waiting value.
    pub fn read_values_to_list(&self) -> Result<Vec<V>> {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|r| r.value)
            .collect())
    }

    /// Takes every waiting record; the last value per key wins (a table's latest state).
    pub fn read_key_values_to_map(&self) -> Result<HashMap<K, V>>
    where
        K: Eq + Hash,
    {
        Ok(self.read_key_values_to_list()?.into_iter().collect())
    }

    /// True when no record is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue_size() == 0
    }

    /// Number of waiting records.
    pub fn queue_size(&self) -> usize {
        self.driver
            .inner
            .borrow()
            .outputs
            .get(&self.topic)
            .map_or(0, VecDeque::len)
    }
}
