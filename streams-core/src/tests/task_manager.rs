//! The lifecycle without a broker: fake input, changelog reader and sink around real tasks
//! of a counting topology (a RocksDB store, logged and cached).

use crate::error::Result;
use crate::processor::internals::plan::TopologyPlan;
use crate::processor::internals::task::{TaskConfig, CHECKPOINT_FILE};
use crate::record::RawRecord;
use crate::state::cache::CacheBudget;
use crate::state::internals::backends::Backends;
use crate::state::internals::checkpoint::Checkpoint;
use crate::state::store::SharedCollector;
use crate::task_id::TaskId;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::collector::{OutRecord, RecordCollector};
use crate::kstream::builder::StreamsBuilder;
use crate::kstream::ktable::Materialized;
use crate::processor::endpoints::Consumed;
use crate::processor::internals::task_manager::*;
use crate::record::Headers;
use crate::serdes::StringSerde;
use crate::state::key_value::KeyValueStore;
use crate::state::store::changelog_topic;
use crate::test_support::TempDir;

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
        let collector: SharedCollector = Rc::new(RefCell::new(Box::new(Collector(log.clone()))));
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

    fn pipe_at(&mut self, topic: &str, partition: i32, offset: i64, key: &str, ts: i64) -> bool {
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
        crate::kstream::join_windows::JoinWindows::of_time_difference_with_no_grace(
            Duration::from_millis(10),
        )
        .unwrap(),
    )
    .to(
        "joined",
        crate::processor::endpoints::Produced::with(StringSerde, StringSerde),
    );
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
