//! The global thread: fills the instance's global stores (behind `GlobalKTable`s) from all
//! partitions of their topics and keeps them up to date.
//!
//! [`GlobalThread::start`] runs on the caller of `KafkaStreams::start`, before any stream
//! thread exists: it opens the stores under `state.dir/<application.id>/global/`, assigns every
//! partition of every global topic (no consumer group: an assign-only consumer per topic, since
//! partition-EOF events carry no topic name), and reads until each partition reported EOF, so
//! tasks never see a half-filled global table. It then spawns `<app>-GlobalStreamThread`,
//! which keeps polling. The topic is the store's changelog: after a flush of the store, the
//! next offset of each partition is written to `global/.checkpoint`, and a restart with a
//! persistent (RocksDB) store resumes from there; without a checkpoint the store is wiped and
//! read from the beginning. The topics are read with the stream threads' changelog reader
//! (`restore.rs`): a checkpointed offset out of a topic's range, or a read position that
//! leaves it (retention deleted records the thread had not read yet), wipes the store and
//! reads the topic again from the beginning, as Kafka Streams does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;

use crate::config::DeserializationHandler;
use crate::error::{Result, StreamsError};
use crate::kafka::restore::KafkaChangelogReader;
use crate::kafka::shared::Shared;
use crate::processor::internals::plan::TopologyPlan;
use crate::processor::internals::task_manager::{ChangelogEvent, ChangelogReader, StartPosition};
use crate::state::global::{open_backend, GlobalRecord};
use crate::state::internals::bytes_store::StoreType;
use crate::state::internals::checkpoint::Checkpoint;

/// Records read per topic per poll round.
const BATCH: usize = 10_000;

/// What the global thread needs from the client.
pub(crate) struct GlobalSetup {
    pub plan: Arc<TopologyPlan>,
    /// Consumer settings (bootstrap servers, user `global.consumer.*` keys).
    pub consumer: ClientConfig,
    /// `state.dir/<application.id>`
    pub state_dir: PathBuf,
    pub handler: DeserializationHandler,
    pub rocksdb_memory_bytes: usize,
    pub commit_interval: Duration,
    /// Partition counts of the global topics (missing: the topic does not exist).
    pub partition_counts: HashMap<String, i32>,
    /// How long the initial read to the end may take.
    pub bootstrap_timeout: Duration,
    pub shared: Arc<Shared>,
}

/// One global store and its topic.
struct Source {
    store: usize,
    topic: String,
    /// Next offset to read per partition.
    next: BTreeMap<i32, i64>,
    persistent: bool,
}

struct Updater {
    plan: Arc<TopologyPlan>,
    sources: Vec<Source>,
    reader: KafkaChangelogReader,
    checkpoint_path: PathBuf,
    handler: DeserializationHandler,
}

impl Updater {
    fn open(setup: &GlobalSetup) -> Result<Updater> {
        let dir = setup.state_dir.join("global");
        std::fs::create_dir_all(&dir).map_err(|source| StreamsError::StateIo {
            action: "create the global state directory".into(),
            path: dir.clone(),
            source,
        })?;
        let checkpoint_path = dir.join(".checkpoint");
        let checkpoint = Checkpoint::read(&checkpoint_path)?;
        let mut updater = Updater {
            plan: setup.plan.clone(),
            sources: Vec::new(),
            reader: KafkaChangelogReader::new(setup.consumer.clone(), "global"),
            checkpoint_path,
            handler: setup.handler,
        };
        for (i, g) in setup.plan.global_stores.iter().enumerate() {
            let n = setup
                .partition_counts
                .get(&g.topic)
                .copied()
                .ok_or_else(|| {
                    StreamsError::InvalidTopology(format!(
                        "topic `{}` of global store `{}` does not exist; create it first",
                        g.topic, g.name
                    ))
                })?;
            g.cell.open(open_backend(
                g.store_type,
                &g.name,
                &dir.join(&g.name),
                setup.rocksdb_memory_bytes,
            )?);
            let persistent = g.store_type == StoreType::RocksDb;
            let from: Option<BTreeMap<i32, i64>> = match (&checkpoint, persistent) {
                (Some(cp), true) => (0..n)
                    .map(|p| cp.offsets.get(&(g.topic.clone(), p)).map(|o| (p, *o)))
                    .collect(),
                _ => None,
            };
            let next = match from {
                Some(next) => next,
                None => {
                    g.cell.wipe()?;
                    (0..n).map(|p| (p, 0)).collect()
                }
            };
            updater.sources.push(Source {
                store: i,
                topic: g.topic.clone(),
                next,
                persistent,
            });
            let si = updater.sources.len() - 1;
            updater.assign(si)?;
            let s = &updater.sources[si];
            tracing::info!(store = %g.name, topic = %g.topic, partitions = n, from = ?s.next, "global store assigned");
        }
        Ok(updater)
    }

    /// Assigns every partition of a source at its next offset; a checkpointed offset out of
    /// the topic's range means the store is wiped and read again from the beginning.
    fn assign(&mut self, si: usize) -> Result<()> {
        let s = &self.sources[si];
        let mut out_of_range = false;
        for (p, o) in &s.next {
            if let StartPosition::OutOfRange { first, end } =
                self.reader.assign(&s.topic, *p, *o)?
            {
                tracing::warn!(topic = %s.topic, partition = p, offset = o, first, end, "the global store's checkpointed offset is out of the topic's range (truncated or recreated?): wiping the store and reading the topic from the beginning");
                out_of_range = true;
                break;
            }
        }
        if out_of_range {
            self.restart(si)?;
        }
        Ok(())
    }

    /// Wipes a global store and reads its whole topic again.
    fn restart(&mut self, si: usize) -> Result<()> {
        let s = &mut self.sources[si];
        let partitions: Vec<i32> = s.next.keys().copied().collect();
        for p in &partitions {
            self.reader.unassign(&s.topic, *p)?;
        }
        self.plan.global_stores[s.store].cell.wipe()?;
        for p in partitions {
            s.next.insert(p, 0);
            self.reader.assign(&s.topic, p, 0)?;
        }
        Ok(())
    }

    /// Reads and applies what the topics have; returns the partitions that reported EOF.
    fn poll_round(&mut self, timeout: Duration) -> Result<Vec<(usize, i32)>> {
        let mut eof = Vec::new();
        for event in self.reader.read(BATCH, timeout)? {
            match event {
                ChangelogEvent::Records {
                    topic,
                    partition,
                    records,
                } => {
                    let Some(s) = self.sources.iter_mut().find(|s| s.topic == topic) else {
                        continue;
                    };
                    let batch: Vec<GlobalRecord<'_>> = records
                        .iter()
                        .map(|r| GlobalRecord {
                            key: r.key.as_deref(),
                            value: r.value.as_deref(),
                            timestamp: r.timestamp,
                            offset: r.offset,
                        })
                        .collect();
                    self.plan.global_stores[s.store].apply(self.handler, partition, &batch)?;
                    if let Some(last) = records.last() {
                        s.next.insert(partition, last.offset + 1);
                    }
                }
                ChangelogEvent::End { topic, partition } => {
                    if let Some(si) = self.sources.iter().position(|s| s.topic == topic) {
                        eof.push((si, partition));
                    }
                }
                ChangelogEvent::OutOfRange { topic, .. } => {
                    if let Some(si) = self.sources.iter().position(|s| s.topic == topic) {
                        tracing::warn!(topic = %topic, "a global topic's read position went out of range (truncated or recreated?): wiping the store and reading the topic from the beginning");
                        self.restart(si)?;
                    }
                }
            }
        }
        Ok(eof)
    }

    /// Flushes the stores and records the offsets read.
    fn checkpoint(&self) -> Result<()> {
        let mut offsets = BTreeMap::new();
        for s in &self.sources {
            self.plan.global_stores[s.store].cell.flush()?;
            if s.persistent {
                for (p, o) in &s.next {
                    offsets.insert((s.topic.clone(), *p), *o);
                }
            }
        }
        if offsets.is_empty() {
            return Ok(());
        }
        Checkpoint { offsets }.write(&self.checkpoint_path)
    }

    /// Reads every partition to its end (partition EOF, never a ListOffsets end offset).
    fn bootstrap(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut pending: HashSet<(usize, i32)> = self
            .sources
            .iter()
            .enumerate()
            .flat_map(|(si, s)| s.next.keys().map(move |p| (si, *p)))
            .collect();
        while !pending.is_empty() {
            if Instant::now() >= deadline {
                let left: Vec<String> = pending
                    .iter()
                    .map(|(si, p)| format!("{} partition {p}", self.sources[*si].topic))
                    .collect();
                return Err(StreamsError::broker(
                    "restore the global stores",
                    format!(
                        "not at the end of {} after {timeout:?}; is the cluster reachable?",
                        left.join(", ")
                    ),
                ));
            }
            for done in self.poll_round(Duration::from_millis(50))? {
                pending.remove(&done);
            }
        }
        self.checkpoint()?;
        for s in &self.sources {
            let g = &self.plan.global_stores[s.store];
            tracing::info!(store = %g.name, topic = %g.topic, offsets = ?s.next, "global store restored");
        }
        Ok(())
    }

    fn close(&self) -> Result<()> {
        let mut first = self.checkpoint().err();
        for s in &self.sources {
            if let Err(e) = self.plan.global_stores[s.store].cell.close() {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// The running global thread.
pub(crate) struct GlobalThread {
    handle: JoinHandle<Result<()>>,
    stop: Arc<AtomicBool>,
}

impl GlobalThread {
    /// Opens the global stores and reads their topics to the end, then spawns the thread that
    /// keeps them up to date. `None` when the topology has no global store.
    pub(crate) fn start(setup: GlobalSetup, app: &str) -> Result<Option<GlobalThread>> {
        if setup.plan.global_stores.is_empty() {
            return Ok(None);
        }
        let mut updater = Updater::open(&setup)?;
        if let Err(e) = updater.bootstrap(setup.bootstrap_timeout) {
            let _ = updater.close();
            return Err(e);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (interval, shared) = (setup.commit_interval, setup.shared.clone());
        let handle = std::thread::Builder::new()
            .name(format!("{app}-GlobalStreamThread"))
            .spawn(move || {
                let result = run(&mut updater, &flag, interval);
                let closed = updater.close();
                match result.and(closed) {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        tracing::error!(error = %e, "the global thread failed; shutting down");
                        // The client reports the error from `close`.
                        shared.fail(usize::MAX, e);
                        Err(StreamsError::Internal(
                            "the global thread failed (see the client's error)".into(),
                        ))
                    }
                }
            })
            .map_err(|e| StreamsError::Internal(format!("cannot spawn the global thread: {e}")))?;
        Ok(Some(GlobalThread { handle, stop }))
    }

    /// Stops the thread: it writes a last checkpoint and closes the stores.
    pub(crate) fn stop(self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        match self.handle.join() {
            Ok(r) => r,
            Err(_) => Err(StreamsError::Internal("the global thread panicked".into())),
        }
    }
}

fn run(updater: &mut Updater, stop: &AtomicBool, interval: Duration) -> Result<()> {
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        updater.poll_round(Duration::from_millis(100))?;
        if last.elapsed() >= interval {
            updater.checkpoint()?;
            last = Instant::now();
        }
    }
    Ok(())
}
