//! The Kafka runtime: [`KafkaStreams`] runs a topology's tasks on a Kafka cluster.
//!
//! Instances with the same `application.id` form one consumer group; each runs
//! `num.stream.threads` stream threads, each with its own consumer, producer and tasks. Tasks
//! follow the partitions the group assigns; their stores are restored from changelog topics
//! before they process. See `docs/architecture.md` and `docs/operations.md`.
//!
//! ```no_run
//! use std::time::Duration;
//! use streams_core::*;
//!
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream("rides", Consumed::with(StringSerde, StringSerde))
//!     .group_by_key()
//!     .count(Materialized::named("rides-per-location"))
//!     .to_stream()
//!     .to("rides-pulocation-count", Produced::new());
//! let config = StreamsConfig::new("ride-counts").with("bootstrap.servers", "localhost:9092");
//! let mut streams = KafkaStreams::new(builder.build()?, config)?;
//! streams.start()?;
//! // ... until Ctrl-C:
//! streams.close(Duration::from_secs(30))?;
//! # Ok::<(), StreamsError>(())
//! ```

mod embedded;
mod global;
mod thread;
mod topics;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;

pub use embedded::EmbeddedCluster;

use crate::config::{ProcessingGuarantee, StreamsConfig};
use crate::error::{Result, StreamsError};
use crate::processor::internals::plan::{TopicName, TopologyPlan};
use crate::processor::internals::task::TaskConfig;
use crate::processor::Topology;
use topics::{TopicSpec, Topics};

/// The state of a [`KafkaStreams`] client (Kafka Streams' `KafkaStreams.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KafkaStreamsState {
    /// Built, not started.
    Created,
    /// Joining the group, creating tasks or restoring state.
    Rebalancing,
    /// Every thread has its tasks and is processing.
    Running,
    /// `close` was called; threads are committing and closing their tasks.
    PendingShutdown,
    /// Closed.
    NotRunning,
    /// A stream thread failed; the client shut down. [`KafkaStreams::close`] returns the error.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThreadPhase {
    Starting,
    Rebalancing,
    Running,
    PendingShutdown,
    Dead,
    Failed,
}

type StateListener = Box<dyn Fn(KafkaStreamsState, KafkaStreamsState) + Send + Sync>;

struct SharedInner {
    phases: Vec<ThreadPhase>,
    state: KafkaStreamsState,
    error: Option<StreamsError>,
}

/// What the client and its threads share.
pub(crate) struct Shared {
    pub(crate) shutdown: AtomicBool,
    inner: Mutex<SharedInner>,
    changed: Condvar,
    listener: Mutex<Option<StateListener>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, SharedInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_state(&self, inner: &mut SharedInner, new: KafkaStreamsState) {
        let old = inner.state;
        if old == new {
            return;
        }
        inner.state = new;
        tracing::info!(from = ?old, to = ?new, "state change");
        if let Some(listener) = self
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            listener(new, old);
        }
        self.changed.notify_all();
    }

    pub(crate) fn set_phase(&self, thread: usize, phase: ThreadPhase) {
        let mut inner = self.lock();
        if let Some(p) = inner.phases.get_mut(thread) {
            *p = phase;
        }
        let state = if inner.error.is_some() {
            KafkaStreamsState::Error
        } else if inner.phases.iter().all(|p| *p == ThreadPhase::Dead) {
            KafkaStreamsState::NotRunning
        } else if self.shutdown.load(Ordering::Relaxed) {
            KafkaStreamsState::PendingShutdown
        } else if inner.phases.iter().all(|p| *p == ThreadPhase::Running) {
            KafkaStreamsState::Running
        } else {
            KafkaStreamsState::Rebalancing
        };
        self.set_state(&mut inner, state);
        self.changed.notify_all();
    }

    /// A thread failed: the client shuts down (the other threads commit and close).
    pub(crate) fn fail(&self, thread: usize, error: StreamsError) {
        self.shutdown.store(true, Ordering::Relaxed);
        let mut inner = self.lock();
        if let Some(p) = inner.phases.get_mut(thread) {
            *p = ThreadPhase::Failed;
        }
        inner.error.get_or_insert(error);
        self.set_state(&mut inner, KafkaStreamsState::Error);
        self.changed.notify_all();
    }
}

/// A Kafka Streams client: runs a topology against a Kafka cluster.
///
/// Without `bootstrap.servers` (or with `embedded`), it starts librdkafka's mock cluster
/// in-process and prints its address; [`KafkaStreams::embedded_cluster`] gives access to it.
pub struct KafkaStreams {
    plan: Arc<TopologyPlan>,
    config: StreamsConfig,
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
    global: Option<global::GlobalThread>,
    bootstrap: String,
    // Declared last: dropped after the threads are gone.
    embedded: Option<EmbeddedCluster>,
}

impl std::fmt::Debug for KafkaStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaStreams")
            .field("application_id", &self.config.application_id())
            .field("bootstrap", &self.bootstrap)
            .field("state", &self.state())
            .finish()
    }
}

impl KafkaStreams {
    /// Checks the config and the topology; starts the embedded cluster if no
    /// `bootstrap.servers` is given. Nothing connects to the cluster until [`Self::start`].
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<KafkaStreams> {
        config.validate()?;
        if config.processing_guarantee()? == ProcessingGuarantee::ExactlyOnceV2 {
            return Err(StreamsError::config(
                crate::config::PROCESSING_GUARANTEE,
                "exactly_once_v2 is not implemented yet; use at_least_once",
            ));
        }
        let plan = Arc::new(topology.plan()?);
        let (bootstrap, embedded) = match config.bootstrap_servers() {
            Some(b) => (b.to_string(), None),
            None => {
                let cluster = EmbeddedCluster::start(1)?;
                let b = cluster.bootstrap_servers().to_string();
                tracing::info!(bootstrap = %b, "started the embedded Kafka cluster (librdkafka mock)");
                (b, Some(cluster))
            }
        };
        Ok(KafkaStreams {
            plan,
            config,
            shared: Arc::new(Shared {
                shutdown: AtomicBool::new(false),
                inner: Mutex::new(SharedInner {
                    phases: Vec::new(),
                    state: KafkaStreamsState::Created,
                    error: None,
                }),
                changed: Condvar::new(),
                listener: Mutex::new(None),
            }),
            threads: Vec::new(),
            global: None,
            bootstrap,
            embedded,
        })
    }

    /// The cluster address in use (the embedded cluster's when there is one).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// The embedded cluster, when `bootstrap.servers` was not given: create input topics on
    /// it, or point other clients at [`EmbeddedCluster::bootstrap_servers`].
    pub fn embedded_cluster(&self) -> Option<&EmbeddedCluster> {
        self.embedded.as_ref()
    }

    /// Called with (new, old) on every state change, from the thread that caused it.
    pub fn set_state_listener(
        &self,
        listener: impl Fn(KafkaStreamsState, KafkaStreamsState) + Send + Sync + 'static,
    ) {
        *self
            .shared
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Box::new(listener));
    }

    /// The client's state.
    pub fn state(&self) -> KafkaStreamsState {
        self.shared.lock().state
    }

    /// Waits until the client is in `state` (true) or `timeout` passed (false). Returns false
    /// at once if the client failed.
    pub fn wait_for_state(&self, state: KafkaStreamsState, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.shared.lock();
        loop {
            if inner.state == state {
                return true;
            }
            if inner.state == KafkaStreamsState::Error {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            inner = match self.shared.changed.wait_timeout(inner, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn client_config(&self, prefix: &str, client_id: &str) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", client_id)
            .set("log_level", "4");
        for (k, v) in self.config.client_properties(prefix) {
            c.set(k, v);
        }
        c
    }

    /// Checks the source topics, creates the internal topics (repartition and changelog) and
    /// starts the stream threads.
    pub fn start(&mut self) -> Result<()> {
        if self.state() != KafkaStreamsState::Created {
            return Err(StreamsError::config(
                crate::config::APPLICATION_ID,
                "start() may be called once, on a client in state Created",
            ));
        }
        let app = self.config.application_id().to_string();
        let threads = self.config.num_stream_threads()?;

        // Consumer settings every thread shares; user `consumer.*` keys override them.
        let mut consumer = ClientConfig::new();
        consumer
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", &app)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("partition.assignment.strategy", "range")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "500")
            .set("fetch.queue.backoff.ms", "10")
            .set("log_level", "4");
        for (k, v) in self.config.client_properties("consumer") {
            consumer.set(k, v);
        }
        let admin = self.client_config("admin", &format!("{app}-admin"));
        let topics = Topics::new(
            &consumer,
            admin,
            self.embedded.as_ref(),
            self.config.replication_factor()?,
        )?;

        // Partition counts: user source topics must exist.
        let user_sources: Vec<String> = self
            .plan
            .subtopologies
            .iter()
            .flat_map(|s| s.sources.iter())
            .filter_map(|s| match &s.topic {
                TopicName::User(t) => Some(t.clone()),
                TopicName::Internal(_) => None,
            })
            .collect();
        let existing = topics.partition_counts(&user_sources)?;
        let counts = self
            .plan
            .partition_counts(&app, &|t| existing.get(t).copied())?;
        let task_counts = self.plan.task_counts(&app, &counts)?;

        let mut specs = Vec::new();
        for t in &self.plan.internal_topics {
            let name = TopicName::Internal(t.name.clone());
            let partitions = counts.get(&name).copied().unwrap_or(1);
            specs.push(TopicSpec {
                name: name.resolve(&app),
                partitions,
                configs: vec![("cleanup.policy".into(), "delete".into())],
            });
        }
        let mut changelog_topics = Vec::new();
        for (sub, n) in self.plan.subtopologies.iter().zip(&task_counts) {
            for b in sub.stores.iter().filter(|b| b.logged()) {
                let name = crate::state::changelog_topic(&app, b.name());
                changelog_topics.push(name.clone());
                specs.push(TopicSpec {
                    name,
                    partitions: *n,
                    configs: b.changelog_topic_config(),
                });
            }
        }
        topics.ensure(&specs)?;

        let mut partition_counts: HashMap<String, i32> = HashMap::new();
        for (t, n) in &counts {
            partition_counts.insert(t.resolve(&app), *n);
        }
        for s in &specs {
            partition_counts.insert(s.name.clone(), s.partitions);
        }
        let mut readers: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (si, sub) in self.plan.subtopologies.iter().enumerate() {
            for (qi, source) in sub.sources.iter().enumerate() {
                readers
                    .entry(source.topic.resolve(&app))
                    .or_default()
                    .push((si, qi));
            }
        }
        let source_topics: Vec<String> = readers.keys().cloned().collect();
        let task_config = TaskConfig {
            handler: self.config.deserialization_handler()?,
            timestamp_policy: self.config.timestamp_policy()?,
        };
        let state_root = self
            .config
            .state_dir()
            .unwrap_or_else(|| std::env::temp_dir().join("kafka-streams"));
        let mut restore =
            self.client_config("restore.consumer", &format!("{app}-restore-consumer"));
        restore
            .set("group.id", format!("{app}-restore"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("fetch.queue.backoff.ms", "10");
        let global_topics: Vec<String> = self
            .plan
            .global_stores
            .iter()
            .map(|g| g.topic.clone())
            .collect();
        let mut global_consumer =
            self.client_config("global.consumer", &format!("{app}-global-consumer"));
        global_consumer.set("group.id", format!("{app}-global"));
        self.global = global::GlobalThread::start(
            global::GlobalSetup {
                plan: self.plan.clone(),
                consumer: global_consumer,
                state_dir: state_root.join(&app),
                handler: task_config.handler,
                rocksdb_memory_bytes: self.config.rocksdb_total_memory_bytes()?,
                commit_interval: self.config.commit_interval()?,
                partition_counts: topics.partition_counts(&global_topics)?,
                bootstrap_timeout: Duration::from_secs(300),
                shared: self.shared.clone(),
            },
            &app,
        )?;
        {
            let mut inner = self.shared.lock();
            inner.phases = vec![ThreadPhase::Starting; threads];
            self.shared
                .set_state(&mut inner, KafkaStreamsState::Rebalancing);
        }
        for index in 0..threads {
            let mut producer =
                self.client_config("producer", &format!("{app}-StreamThread-{index}-producer"));
            producer
                .set("acks", "all")
                .set("linger.ms", "5")
                .set("partitioner", "murmur2_random");
            for (k, v) in self.config.client_properties("producer") {
                producer.set(k, v);
            }
            let mut c = consumer.clone();
            c.set("client.id", format!("{app}-StreamThread-{index}-consumer"));
            let setup = thread::ThreadSetup {
                index,
                application_id: app.clone(),
                plan: self.plan.clone(),
                task_config,
                state_dir: state_root.join(&app),
                cache_max_bytes: self.config.cache_max_bytes()? / threads,
                rocksdb_memory_bytes: self.config.rocksdb_total_memory_bytes()?,
                commit_interval: self.config.commit_interval()?,
                buffered_per_partition: self.config.buffered_records_per_partition()?,
                consumer: c,
                producer,
                restore: restore.clone(),
                source_topics: source_topics.clone(),
                readers: readers.clone(),
                partition_counts: partition_counts.clone(),
                changelog_topics: changelog_topics.clone(),
                shared: self.shared.clone(),
            };
            let handle = std::thread::Builder::new()
                .name(format!("{app}-StreamThread-{index}"))
                .spawn(move || thread::run(setup))
                .map_err(|e| {
                    StreamsError::Internal(format!("cannot spawn a stream thread: {e}"))
                })?;
            self.threads.push(handle);
        }
        Ok(())
    }

    /// Stops gracefully: every thread finishes its current batch, commits, flushes its stores,
    /// writes its checkpoints and leaves the group. Waits up to `timeout`. Returns the error
    /// that stopped a thread, if one did.
    pub fn close(&mut self, timeout: Duration) -> Result<()> {
        self.shared.shutdown.store(true, Ordering::Relaxed);
        {
            let mut inner = self.shared.lock();
            if !matches!(
                inner.state,
                KafkaStreamsState::Error
                    | KafkaStreamsState::NotRunning
                    | KafkaStreamsState::Created
            ) {
                self.shared
                    .set_state(&mut inner, KafkaStreamsState::PendingShutdown);
            }
        }
        let deadline = Instant::now() + timeout;
        {
            let mut inner = self.shared.lock();
            while inner
                .phases
                .iter()
                .any(|p| !matches!(p, ThreadPhase::Dead | ThreadPhase::Failed))
            {
                let now = Instant::now();
                if now >= deadline {
                    return Err(StreamsError::broker(
                        "close the client",
                        format!("stream threads still running after {timeout:?}"),
                    ));
                }
                inner = match self.shared.changed.wait_timeout(inner, deadline - now) {
                    Ok((g, _)) => g,
                    Err(p) => p.into_inner().0,
                };
            }
        }
        for handle in self.threads.drain(..) {
            if handle.join().is_err() {
                return Err(StreamsError::Internal("a stream thread panicked".into()));
            }
        }
        // After the tasks that read the global stores are closed.
        let global = self
            .global
            .take()
            .map_or(Ok(()), global::GlobalThread::stop);
        let mut inner = self.shared.lock();
        match inner.error.take() {
            Some(e) => Err(e),
            None if global.is_err() => global,
            None => {
                self.shared
                    .set_state(&mut inner, KafkaStreamsState::NotRunning);
                Ok(())
            }
        }
    }
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        if !self.threads.is_empty() || self.global.is_some() {
            if let Err(e) = self.close(Duration::from_secs(60)) {
                tracing::error!(error = %e, "closing on drop failed");
            }
        }
    }
}
