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
//! read from the beginning.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::config::DeserializationHandler;
use crate::error::{Result, StreamsError};
use crate::kafka::Shared;
use crate::processor::internals::plan::TopologyPlan;
use crate::state::global::{open_backend, GlobalRecord};
use crate::state::internals::checkpoint::Checkpoint;
use crate::state::StoreType;

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

/// One global store and its consumer.
struct Source {
    store: usize,
    topic: String,
    consumer: BaseConsumer,
    /// Next offset to read per partition.
    next: BTreeMap<i32, i64>,
    persistent: bool,
}

/// Owned records of one poll round, per partition.
type Polled = HashMap<i32, Vec<(Option<Vec<u8>>, Option<Vec<u8>>, i64, i64)>>;

struct Updater {
    plan: Arc<TopologyPlan>,
    sources: Vec<Source>,
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
        let mut consumer = setup.consumer.clone();
        consumer
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest")
            .set("fetch.queue.backoff.ms", "10");
        let mut sources = Vec::new();
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
            let c: BaseConsumer = consumer
                .create()
                .map_err(|e| StreamsError::broker("create the global consumer", e))?;
            let mut tpl = TopicPartitionList::new();
            for (p, o) in &next {
                let offset = if *o > 0 {
                    Offset::Offset(*o)
                } else {
                    Offset::Beginning
                };
                tpl.add_partition_offset(&g.topic, *p, offset)
                    .map_err(|e| StreamsError::broker(format!("assign `{}`", g.topic), e))?;
            }
            c.assign(&tpl)
                .map_err(|e| StreamsError::broker(format!("assign `{}`", g.topic), e))?;
            tracing::info!(store = %g.name, topic = %g.topic, partitions = n, from = ?next, "global store assigned");
            sources.push(Source {
                store: i,
                topic: g.topic.clone(),
                consumer: c,
                next,
                persistent,
            });
        }
        Ok(Updater {
            plan: setup.plan.clone(),
            sources,
            checkpoint_path,
            handler: setup.handler,
        })
    }

    /// Reads and applies one batch per topic; returns the partitions that reported EOF.
    fn poll_round(&mut self, timeout: Duration) -> Result<Vec<(usize, i32)>> {
        let mut eof = Vec::new();
        for (si, s) in self.sources.iter_mut().enumerate() {
            let mut polled: Polled = HashMap::new();
            for i in 0..BATCH {
                match s
                    .consumer
                    .poll(if i == 0 { timeout } else { Duration::ZERO })
                {
                    None => break,
                    Some(Err(KafkaError::PartitionEOF(p))) => eof.push((si, p)),
                    Some(Err(e)) => {
                        tracing::warn!(topic = %s.topic, error = %e, "global consumer error (retrying)");
                        break;
                    }
                    Some(Ok(m)) => polled.entry(m.partition()).or_default().push((
                        m.key().map(<[u8]>::to_vec),
                        m.payload().map(<[u8]>::to_vec),
                        m.timestamp().to_millis().unwrap_or(0),
                        m.offset(),
                    )),
                }
            }
            let g = &self.plan.global_stores[s.store];
            for (p, batch) in polled {
                let records: Vec<GlobalRecord<'_>> = batch
                    .iter()
                    .map(|(k, v, ts, offset)| GlobalRecord {
                        key: k.as_deref(),
                        value: v.as_deref(),
                        timestamp: *ts,
                        offset: *offset,
                    })
                    .collect();
                g.apply(self.handler, p, &records)?;
                if let Some((_, _, _, last)) = batch.last() {
                    s.next.insert(p, last + 1);
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
