//! [`KafkaStreams`]: the client that runs a topology's tasks on a Kafka cluster.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;

use crate::config::{ProcessingGuarantee, StreamsConfig};
use crate::error::{Result, StreamsError};
use crate::kafka::embedded::EmbeddedCluster;
use crate::kafka::shared::*;
use crate::kafka::topics::{TopicSpec, Topics};
use crate::kafka::{app_dir, control, global, thread};
use crate::processor::internals::plan::{TopicName, TopologyPlan};
use crate::processor::internals::task::TaskConfig;
use crate::processor::restore_listener::StateRestoreListener;
use crate::processor::topology::Topology;

/// A Kafka Streams client: runs a topology against a Kafka cluster.
///
/// Without `bootstrap.servers` (or with `embedded`), it starts librdkafka's mock cluster
/// in-process and prints its address; [`KafkaStreams::embedded_cluster`] gives access to it.
pub struct KafkaStreams {
    plan: Arc<TopologyPlan>,
    config: StreamsConfig,
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
    control: Option<std::thread::JoinHandle<()>>,
    global: Option<global::GlobalThread>,
    bootstrap: String,
    /// The lock on `<state.dir>/<application.id>`, from `start` to the end of `close`.
    state_lock: Option<app_dir::StateDirLock>,
    // Declared last: dropped after the threads are gone.
    embedded: Option<Arc<EmbeddedCluster>>,
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
        Self::build(topology, config, None)
    }

    /// Runs on an embedded cluster the caller started (and may share between clients, or keep
    /// across restarts of a client); `bootstrap.servers` is ignored.
    pub fn with_embedded_cluster(
        topology: Topology,
        config: StreamsConfig,
        cluster: Arc<EmbeddedCluster>,
    ) -> Result<KafkaStreams> {
        Self::build(topology, config, Some(cluster))
    }

    fn build(
        topology: Topology,
        config: StreamsConfig,
        cluster: Option<Arc<EmbeddedCluster>>,
    ) -> Result<KafkaStreams> {
        config.validate()?;
        let exactly_once = config.processing_guarantee()? == ProcessingGuarantee::ExactlyOnceV2;
        let plan = Arc::new(topology.plan()?);
        let (bootstrap, embedded) = match (cluster, config.bootstrap_servers()) {
            (Some(c), _) => (c.bootstrap_servers().to_string(), Some(c)),
            (None, Some(b)) => (b.to_string(), None),
            (None, None) => {
                let cluster = Arc::new(EmbeddedCluster::start(1)?);
                let b = cluster.bootstrap_servers().to_string();
                tracing::info!(bootstrap = %b, "started the embedded Kafka cluster (librdkafka mock)");
                if exactly_once {
                    tracing::warn!(
                        "exactly_once_v2 on the embedded mock cluster: it runs transactions but \
                         does not apply offsets sent in them nor hide aborted records, so a \
                         restart reprocesses input; use a real Kafka cluster for exactly-once"
                    );
                }
                (b, Some(cluster))
            }
        };
        Ok(KafkaStreams {
            plan,
            config,
            shared: Arc::new(Shared::new()),
            threads: Vec::new(),
            control: None,
            global: None,
            bootstrap,
            state_lock: None,
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
        self.embedded.as_deref()
    }

    /// Called with (new, old) on every state change, in order, from the thread that caused it
    /// (or from one that reported changes at the same time), never while the client holds a
    /// lock: the listener may call [`Self::state`] or take a lock that a thread calling into
    /// the client holds.
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

    /// Decides what happens when a stream thread fails (Kafka Streams'
    /// `setUncaughtExceptionHandler`). Called on the failed thread with its error.
    ///
    /// ```no_run
    /// # use streams_core::*;
    /// # fn f(streams: &KafkaStreams) {
    /// streams.set_uncaught_exception_handler(|error| match error {
    ///     StreamsError::Broker { .. } => StreamThreadExceptionResponse::ReplaceThread,
    ///     _ => StreamThreadExceptionResponse::ShutdownClient,
    /// });
    /// # }
    /// ```
    pub fn set_uncaught_exception_handler(
        &self,
        handler: impl Fn(&StreamsError) -> StreamThreadExceptionResponse + Send + Sync + 'static,
    ) {
        *self
            .shared
            .error_handler
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Box::new(handler));
    }

    /// Reports the restoration of every state store of this client (Kafka Streams'
    /// `setGlobalStateRestoreListener`). Each store's restoration is also a tracing event at
    /// INFO with its record count and duration.
    pub fn set_global_state_restore_listener(&self, listener: impl StateRestoreListener + 'static) {
        self.shared.restore_listener.set(Arc::new(listener));
    }

    /// How many stream threads were replaced after an error
    /// ([`StreamThreadExceptionResponse::ReplaceThread`]).
    pub fn replaced_threads(&self) -> usize {
        self.shared.replaced_threads.load(Ordering::Relaxed)
    }

    /// Totals over every task this client has run: records processed, records dropped
    /// (undecodable under `LogAndContinue`, invalid timestamps skipped, late records for closed
    /// windows) and punctuations. Updated as the threads loop, so at most a batch behind.
    pub fn metrics(&self) -> crate::processor::task_metrics::TaskMetrics {
        crate::processor::task_metrics::TaskMetrics {
            processed: self.shared.processed.load(Ordering::Relaxed),
            dropped_records: self.shared.dropped_records.load(Ordering::Relaxed),
            punctuations: self.shared.punctuations.load(Ordering::Relaxed),
            restore_restarts: self.shared.restore_restarts.load(Ordering::Relaxed),
        }
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

    /// The settings of stream thread `index`'s producer. Idempotent under every guarantee, as
    /// Kafka's own producers are by default: a retried batch is written once and in order, so a
    /// retry cannot duplicate or reorder records in changelogs and outputs. Under exactly-once,
    /// also transactional (EOS v2: one producer per thread); the id survives restarts of the
    /// process (the process id is kept in the state directory), so a restarted instance fences
    /// its predecessor's producer and aborts its open transaction. `producer.*` keys override.
    fn stream_producer_config(&self, index: usize, transactional_id: Option<&str>) -> ClientConfig {
        let app = self.config.application_id();
        let mut producer = ClientConfig::new();
        producer
            .set("bootstrap.servers", &self.bootstrap)
            .set("client.id", format!("{app}-StreamThread-{index}-producer"))
            .set("log_level", "4")
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("partitioner", "murmur2_random");
        if let Some(id) = transactional_id {
            producer
                .set("transactional.id", id)
                .set("transaction.timeout.ms", "10000");
        }
        for (k, v) in self.config.client_properties("producer") {
            producer.set(k, v);
        }
        producer
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

    /// Deletes this application's local state, `<state.dir>/<application.id>` (Kafka Streams'
    /// `cleanUp`): every task directory with its stores and checkpoint. The next start restores
    /// every store from its changelog. Only before [`Self::start`] or after [`Self::close`],
    /// and only while no other instance uses the directory
    /// ([`StreamsError::StateDirectoryLocked`] otherwise).
    ///
    /// ```no_run
    /// # use streams_core::*;
    /// # fn f(topology: Topology) -> Result<()> {
    /// let config = StreamsConfig::new("ride-counts").with("bootstrap.servers", "localhost:9092");
    /// let mut streams = KafkaStreams::new(topology, config)?;
    /// streams.cleanup()?; // start from the changelogs, not from what this machine kept
    /// streams.start()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn cleanup(&self) -> Result<()> {
        if !matches!(
            self.state(),
            KafkaStreamsState::Created | KafkaStreamsState::NotRunning | KafkaStreamsState::Error
        ) || !self.threads.is_empty()
        {
            return Err(StreamsError::config(
                crate::config::STATE_DIR,
                "cleanup() deletes local state: call it before start() or after close()",
            ));
        }
        let app_dir = self.app_dir();
        match &self.state_lock {
            Some(lock) => app_dir::clean(&app_dir, lock),
            None => app_dir::clean(&app_dir, &app_dir::lock(&app_dir)?),
        }
    }

    /// `<state.dir>/<application.id>`.
    fn app_dir(&self) -> std::path::PathBuf {
        self.config
            .state_dir()
            .unwrap_or_else(|| std::env::temp_dir().join("kafka-streams"))
            .join(self.config.application_id())
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
        let exactly_once =
            self.config.processing_guarantee()? == ProcessingGuarantee::ExactlyOnceV2;
        let state_dir = self.app_dir();
        // Before anything else: a second instance on this directory must not touch the cluster.
        self.state_lock = Some(app_dir::lock(&state_dir)?);

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
        if exactly_once {
            consumer.set("isolation.level", "read_committed");
        }
        for (k, v) in self.config.client_properties("consumer") {
            consumer.set(k, v);
        }
        let admin = self.client_config("admin", &format!("{app}-admin"));
        let topics = Topics::new(
            &consumer,
            admin.clone(),
            self.embedded.as_deref(),
            self.config.replication_factor()?,
        )?;

        // Pattern sources read the topics that match now (Kafka Streams re-matches at every
        // rebalance; here a topic created later is read from the next start on).
        if self.plan.has_patterns() {
            let mut names = topics.topic_names()?;
            // The control topic is this application's own; the plan knows its other ones.
            names.retain(|t| *t != control::topic(&app));
            Arc::make_mut(&mut self.plan).expand_patterns(&app, &names)?;
            tracing::info!(
                sources = ?self.plan.subtopologies.iter().flat_map(|s| &s.sources).map(|s| s.topic.display()).collect::<Vec<_>>(),
                "subscribed pattern sources to the topics that match"
            );
        }
        // Partition counts: user source topics must exist.
        let user_sources: Vec<String> = self
            .plan
            .subtopologies
            .iter()
            .flat_map(|s| s.sources.iter())
            .filter_map(|s| match &s.topic {
                TopicName::User(t) => Some(t.clone()),
                TopicName::Internal(_) | TopicName::Pattern(_) => None,
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
        specs.push(TopicSpec {
            name: control::topic(&app),
            partitions: 1,
            configs: vec![
                ("cleanup.policy".into(), "delete".into()),
                ("retention.ms".into(), "3600000".into()),
            ],
        });
        let mut changelog_topics = Vec::new();
        for (sub, n) in self.plan.subtopologies.iter().zip(&task_counts) {
            for b in sub.stores.iter().filter(|b| b.logged()) {
                let name = crate::state::store::changelog_topic(&app, b.name());
                changelog_topics.push(name.clone());
                specs.push(TopicSpec {
                    name,
                    partitions: *n,
                    configs: b.changelog_topic_config(),
                });
            }
        }
        topics.ensure(&specs)?;
        let repartition_topics: Arc<std::collections::HashSet<String>> = Arc::new(
            self.plan
                .internal_topics
                .iter()
                .map(|t| TopicName::Internal(t.name.clone()).resolve(&app))
                .collect(),
        );
        let internal_topics: Arc<std::collections::HashSet<String>> = Arc::new(
            repartition_topics
                .iter()
                .chain(changelog_topics.iter())
                .cloned()
                .collect(),
        );

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
        let task_config = TaskConfig::from_config(&self.config)?;
        let mut restore =
            self.client_config("restore.consumer", &format!("{app}-restore-consumer"));
        // The changelog reader sets what it relies on (no auto commit, partition EOF events,
        // `auto.offset.reset=error`).
        restore.set("group.id", format!("{app}-restore"));
        if exactly_once {
            // Restore committed data only: the changelog tail of an aborted transaction is not
            // state.
            restore.set("isolation.level", "read_committed");
        }
        let process_id = if exactly_once {
            process_id(&state_dir)?
        } else {
            String::new()
        };
        let global_topics: Vec<String> = self
            .plan
            .global_stores
            .iter()
            .map(|g| g.topic.clone())
            .collect();
        let mut global_consumer =
            self.client_config("global.consumer", &format!("{app}-global-consumer"));
        global_consumer.set("group.id", format!("{app}-global"));
        if exactly_once {
            global_consumer.set("isolation.level", "read_committed");
        }
        self.global = global::GlobalThread::start(
            global::GlobalSetup {
                plan: self.plan.clone(),
                consumer: global_consumer,
                state_dir: state_dir.clone(),
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
        self.shared.report_state_changes();
        self.control = Some(control::watch(
            &app,
            self.client_config("control", &format!("{app}-control")),
            self.shared.clone(),
        )?);
        for index in 0..threads {
            let transactional_id = exactly_once.then(|| format!("{app}-{process_id}-{index}"));
            let producer = self.stream_producer_config(index, transactional_id.as_deref());
            let mut c = consumer.clone();
            c.set("client.id", format!("{app}-StreamThread-{index}-consumer"));
            let setup = thread::ThreadSetup {
                index,
                application_id: app.clone(),
                plan: self.plan.clone(),
                task_config: task_config.clone(),
                state_dir: state_dir.clone(),
                cache_max_bytes: self.config.cache_max_bytes()? / threads,
                rocksdb_memory_bytes: self.config.rocksdb_total_memory_bytes()?,
                commit_interval: self.config.commit_interval()?,
                exactly_once,
                buffered_per_partition: self.config.buffered_records_per_partition()?,
                max_task_idle: self.config.max_task_idle()?,
                task_timeout: self.config.task_timeout()?,
                state_cleanup_delay: self.config.state_cleanup_delay()?,
                consumer: c,
                producer,
                restore: restore.clone(),
                source_topics: source_topics.clone(),
                readers: readers.clone(),
                partition_counts: partition_counts.clone(),
                changelog_topics: changelog_topics.clone(),
                internal_topics: internal_topics.clone(),
                repartition_topics: repartition_topics.clone(),
                purge_interval: self.config.repartition_purge_interval()?,
                admin: admin.clone(),
                control: self.client_config("control", &format!("{app}-control")),
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
        self.shared.report_state_changes();
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
        for handle in self.threads.drain(..).chain(self.control.take()) {
            if handle.join().is_err() {
                return Err(StreamsError::Internal("a stream thread panicked".into()));
            }
        }
        // After the tasks that read the global stores are closed.
        let global = self
            .global
            .take()
            .map_or(Ok(()), global::GlobalThread::stop);
        // Every thread that used the state directory is gone.
        self.state_lock = None;
        let result = {
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
        };
        self.shared.report_state_changes();
        result
    }
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        if !self.threads.is_empty() || self.control.is_some() || self.global.is_some() {
            if let Err(e) = self.close(Duration::from_secs(60)) {
                tracing::error!(error = %e, "closing on drop failed");
            }
        }
    }
}

/// The process id of this instance, kept in `<state.dir>/<application.id>/` so that it survives
/// restarts (Kafka Streams keeps it in `kafka-streams-process-metadata` for the same reason): the
/// transactional ids derive from it.
pub(super) fn process_id(state_dir: &std::path::Path) -> Result<String> {
    use std::hash::{BuildHasher, Hasher};
    let path = state_dir.join("kafka-streams-process-metadata");
    let io = |action: &str, source: std::io::Error| StreamsError::StateIo {
        action: action.into(),
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim();
            if !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                return Ok(id.to_string());
            }
            tracing::warn!(path = %path.display(), "unreadable process id; writing a new one");
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("read the process id", e)),
    }
    // 128 random bits: `RandomState` is seeded from the operating system's random source.
    let mut bits = [0u64; 2];
    for (i, b) in bits.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_u32(std::process::id());
        *b = h.finish();
    }
    let id = format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        bits[0] >> 32,
        (bits[0] >> 16) & 0xffff,
        bits[0] & 0xffff,
        bits[1] >> 48,
        bits[1] & 0xffff_ffff_ffff
    );
    std::fs::create_dir_all(state_dir).map_err(|e| io("create the state directory", e))?;
    std::fs::write(&path, format!("{id}\n")).map_err(|e| io("write the process id", e))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::Mutex;
    use KafkaStreamsState::*;

    type Seen = Arc<
        Mutex<
            Vec<(
                KafkaStreamsState,
                KafkaStreamsState,
                Option<KafkaStreamsState>,
            )>,
        >,
    >;

    /// A listener that records (old, new, the state it reads back through the client's lock).
    fn recording_listener(shared: &Arc<Shared>, also: fn(&Shared, KafkaStreamsState)) -> Seen {
        let seen: Seen = Arc::default();
        let (client, record) = (Arc::downgrade(shared), seen.clone());
        *shared.listener.lock().unwrap() = Some(Box::new(move |new, old| {
            let client = client.upgrade();
            let now = client.as_ref().map(|c| c.lock().state);
            record.lock().unwrap().push((old, new, now));
            if let Some(c) = client {
                also(&c, new);
            }
        }));
        seen
    }

    /// Runs `f` on another thread and fails (instead of hanging) if it does not return in 10 s.
    fn within_10s(what: &str, f: impl FnOnce() + Send + 'static) {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            f();
            let _ = done.send(());
        });
        if finished.recv_timeout(Duration::from_secs(10)).is_err() {
            panic!("{what} did not return within 10 s (deadlocked or panicked)");
        }
    }

    /// Starts one thread and lets it reach Running, failing if that does not return in 10 s.
    fn start_and_run(shared: &Arc<Shared>) {
        let client = shared.clone();
        within_10s("start and run with a state listener", move || {
            start(&client, 1);
            client.set_phase(0, ThreadPhase::Running);
        });
    }

    fn start(shared: &Shared, threads: usize) {
        {
            let mut inner = shared.lock();
            inner.phases = vec![ThreadPhase::Starting; threads];
            shared.set_state(&mut inner, Rebalancing);
        }
        shared.report_state_changes();
    }

    // Kafka Streams users read the client's state (and query it) from `onChange`; the listener
    // used to run while the state lock was held, so this deadlocked.
    #[test]
    fn a_state_listener_can_read_the_clients_state() {
        let shared = Arc::new(Shared::new());
        let seen = recording_listener(&shared, |_, _| {});
        start_and_run(&shared);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (Created, Rebalancing, Some(Rebalancing)),
                (Rebalancing, Running, Some(Running)),
            ]
        );
    }

    // A listener that causes a state change (as one that closes the client on an error does)
    // sees that change after the one it is handling, not nested inside it.
    #[test]
    fn a_state_change_made_by_the_listener_is_reported_after_the_current_one() {
        let shared = Arc::new(Shared::new());
        let seen = recording_listener(&shared, |client, new| {
            if new == Running {
                client.fail(0, StreamsError::Internal("stop".into()));
            }
        });
        start_and_run(&shared);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (Created, Rebalancing, Some(Rebalancing)),
                (Rebalancing, Running, Some(Running)),
                (Running, Error, Some(Error)),
            ]
        );
    }

    // Changes made on several threads at once reach the listener one at a time, each once,
    // in the order they were made.
    #[test]
    fn concurrent_state_changes_are_each_reported_once_in_order() {
        let shared = Arc::new(Shared::new());
        let seen = recording_listener(&shared, |_, _| std::thread::yield_now());
        let client = shared.clone();
        within_10s("state changes on 8 threads", move || {
            start(&client, 8);
            let workers: Vec<_> = (0..8)
                .map(|t| {
                    let client = client.clone();
                    std::thread::spawn(move || {
                        for phase in [ThreadPhase::Running, ThreadPhase::Rebalancing] {
                            client.set_phase(t, phase);
                        }
                        client.set_phase(t, ThreadPhase::Dead);
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
        });
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.first().map(|s| (s.0, s.1)),
            Some((Created, Rebalancing))
        );
        assert_eq!(seen.last().map(|s| s.1), Some(NotRunning));
        for pair in seen.windows(2) {
            assert_eq!(
                pair[0].1, pair[1].0,
                "changes reported out of order: {seen:?}"
            );
        }
        assert!(shared.lock().unreported.is_empty());
    }
}

#[cfg(test)]
mod producer_tests {
    use super::*;
    use crate::kstream::builder::StreamsBuilder;
    use crate::processor::endpoints::Consumed;
    use crate::serdes::StringSerde;

    fn client(extra: &[(&str, &str)]) -> KafkaStreams {
        let builder = StreamsBuilder::new();
        builder
            .stream("in", Consumed::with(StringSerde, StringSerde))
            .to(
                "out",
                crate::processor::endpoints::Produced::with(StringSerde, StringSerde),
            );
        let mut config =
            StreamsConfig::new("producer-settings").with("bootstrap.servers", "127.0.0.1:1");
        for (k, v) in extra {
            config.set(*k, *v);
        }
        KafkaStreams::new(builder.build().unwrap(), config).unwrap()
    }

    // at_least_once producers were not idempotent: a retried batch could be written twice or
    // land after a later one in a changelog.
    #[test]
    fn stream_producers_are_idempotent_under_every_guarantee() {
        let alos = client(&[]).stream_producer_config(0, None);
        assert_eq!(alos.get("enable.idempotence"), Some("true"));
        assert_eq!(alos.get("acks"), Some("all"));
        assert_eq!(alos.get("transactional.id"), None);
        let eos = client(&[("processing.guarantee", "exactly_once_v2")])
            .stream_producer_config(1, Some("app-p-1"));
        assert_eq!(eos.get("enable.idempotence"), Some("true"));
        assert_eq!(eos.get("transactional.id"), Some("app-p-1"));
        assert_eq!(
            eos.get("client.id"),
            Some("producer-settings-StreamThread-1-producer")
        );
    }

    #[test]
    fn producer_keys_override_the_defaults() {
        let c = client(&[
            ("producer.enable.idempotence", "false"),
            ("producer.linger.ms", "50"),
        ])
        .stream_producer_config(0, None);
        assert_eq!(c.get("enable.idempotence"), Some("false"));
        assert_eq!(c.get("linger.ms"), Some("50"));
    }
}
